"""nlp-client, the edge: forwards each operation to rake-app or prose-app with the API key."""
