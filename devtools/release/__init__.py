"""Release tooling (not installed): reproducible artifacts, their proof, and the checks a tag must pass.

``python -m devtools.release --help`` lists the commands; ``make dist``, ``make release-check`` and the
release workflow (``.github/workflows/release.yml``) run them. docs/readme/release.md gives the steps.
"""
