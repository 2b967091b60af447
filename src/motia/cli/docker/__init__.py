"""`motia docker`: a container image for the project (Dockerfile, .dockerignore,
compose.yaml) and the docker commands that build and run it."""
