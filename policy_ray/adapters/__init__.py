"""One adapter per external library or store. Each maps the library's failures to PolicyRayError."""
