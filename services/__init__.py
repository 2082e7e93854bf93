"""The NLP API: three FastAPI services, each also the build context of its image."""
