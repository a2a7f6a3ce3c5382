"""Prompt templates shipped as Markdown files; load them through assistant.prompting."""
