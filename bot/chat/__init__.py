"""The neutral chat layer: events and replies (model), the router, handler context and delivery."""
