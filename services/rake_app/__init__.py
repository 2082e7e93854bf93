"""rake-app: ``POST /keywords``, RAKE keyword extraction compatible with the original Go service."""
