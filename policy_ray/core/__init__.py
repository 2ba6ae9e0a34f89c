"""The pure core: models, mapping, confidence, routing and hashing. No I/O, no Ray."""
