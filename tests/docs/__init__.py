"""Every example in README.md and docs/ runs as a test; see session.py for the rules."""
