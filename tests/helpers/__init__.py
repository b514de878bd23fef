"""Shared test helpers: API Gateway event builders, a Lambda context, small trained models."""
