"""Files ``cdk-sklearn new`` writes into a new project: package data, read with importlib.resources.

``package.json`` and ``package-lock.json`` pin the CDK CLI exactly as this repository's own do (a test
keeps them equal); ``cdk.json`` carries the example app's environments; ``*.tmpl`` are filled in with
``string.Template``.
"""
