"""The HTTP kit both services share: JSON bodies and replies, operator auth, the
error table, conditional GET, CORS and the composition of services into an app.

It may import the kernel (`seatmap`) and Starlette, never a service or the app.
"""
