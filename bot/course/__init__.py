"""Time-aware building blocks of the course rhythm: calendar policy, privacy thresholds, trend charts."""
