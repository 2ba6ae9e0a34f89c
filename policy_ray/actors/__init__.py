"""The Ray layer: actors that wrap stages, and the pool that runs them. The only Ray code besides flows."""
