"""The readers' viewer: an installed library served in Chinese, offline.

- ``viewer.app.create_app(target)``  the Starlette app (addresses in ``viewer/app.py``)
- ``viewer.serve.serve(target, host, port, window, on_ready)``  uvicorn until Ctrl-C, or the
  pywebview desktop window over the same server
- ``viewer.serve.start_in_thread(target, host, port)``  a server in a background thread
"""
