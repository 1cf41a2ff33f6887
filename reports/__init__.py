"""Report rendering and conformance summaries."""
