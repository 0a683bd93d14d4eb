"""libpush"""
