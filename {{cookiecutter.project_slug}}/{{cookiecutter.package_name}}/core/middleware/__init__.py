"""ASGI middlewares that guard every request: body limits, load shedding, security headers."""
