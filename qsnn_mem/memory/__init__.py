"""Memory energy and area of a traced run in a memory organization (never imports torch)."""
