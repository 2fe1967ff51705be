// Package web is the server's HTTP face: the routes, the JSON API, join-token
// admission (in one place, admit), the subscribers' pages and their HTML
// templates (templates/, embedded), the rate limits, the cap on connections
// per client and the host-key guard, and the scheduler of series and sign-ups.
// It mounts the room core's websocket (signaling) at /ws after admitting the
// link; the room core knows nothing of this package. It holds no media code
// and runs no room.
package web
