"""`archspec serve`: a live preview page of specs (diagram, summary, errors) that redraws on save."""
