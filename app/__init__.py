"""Winnow's application: the HTTP API (`api/`), the services it and the jobs call (`services/`),
the models, the contracts the workers implement (`jobs.py`, `runtime.py`) and the `winnow`
command (`cli/`), which wires workers/ in. `app.factory.create_app` builds the Flask app.
"""
