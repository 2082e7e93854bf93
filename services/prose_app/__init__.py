"""prose-app: part-of-speech tags, named entities and sentences over HTTP, with spaCy."""
