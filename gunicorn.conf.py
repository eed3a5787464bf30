"""gunicorn settings for serving the app (``make run``; ``gunicorn -c gunicorn.conf.py``).

The master imports the engine (and so torch) once and computes one answer before
forking, so every worker shares those pages and the first request pays no torch
start-up; Django's management commands never import torch.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Requests spend much of their time waiting on the database, so more workers than
# cores (gunicorn's 2 x cores + 1); preloading keeps their shared torch pages shared.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
wsgi_app = "studyapp.wsgi:application"
preload_app = True
timeout = 60
accesslog = "-"


def on_starting(server):
    import torch

    import engine

    torch.set_num_threads(int(os.environ.get("ENGINE_THREADS", "1")))
    engine.solve("softmax", {"logits": [1.0, 2.0]})  # first torch call pays the lazy set-up
    server.log.info("engine %s ready (torch %s)", engine.__version__, torch.__version__)
