"""The CrossGuard policy pack: pure rules (`policy.rules`) and their CrossGuard wrappers."""
