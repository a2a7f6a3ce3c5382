"""litassist index layer: documents -> searchable store. Never reads settings or the environment."""
