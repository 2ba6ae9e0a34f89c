from policy_ray.cli import main

raise SystemExit(main())
