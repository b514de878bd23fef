"""Register the app's SnapStart runtime hooks with ``snapshot_restore_py`` when it is available.

The Lambda Python runtime (3.12 and later) ships the ``snapshot_restore_py`` module; elsewhere it is
absent and this is a no-op. The hooks only run when SnapStart is enabled on the function version.
"""

from __future__ import annotations

from .app import App


def register_hooks(app: App) -> bool:
    """Register ``app.before_snapshot`` and ``app.after_restore``; return whether hooks were registered."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(app.before_snapshot)
    register_after_restore(app.after_restore)
    return True
