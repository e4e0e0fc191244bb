"""`bench serve`: one base model, several packaged adapters, an OpenAI-compatible HTTP API.

    adapters.py    load every adapter onto the one base; switch per request
    completion.py  one chat completion on the active model (greedy by default)
    app.py         the FastAPI app: /v1/chat/completions, /v1/models, /health
    vllm.py        the equivalent `vllm serve` command for production
    command.py     the CLI

fastapi and uvicorn are optional (``pip install bench-harness[serve]``); they
are imported only when a server is built.
"""
