"""Platform adapters: each turns its platform's payloads into neutral events and renders neutral replies."""
