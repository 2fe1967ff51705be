// Package signaling is the room core: the websocket protocol and, per live
// session, one room actor goroutine that owns the session's state machine and
// its SFU room (closed while nobody is in it, opened again on the next join).
// It stores before it broadcasts, and maps the session and SFU packages'
// errors to the wire contract's codes.
//
// It depends on a narrow Store (defined here: just what a room reads and
// writes), a clock, the SFU router and a logger. It must not know HTTP pages,
// the JSON API, mail, tokens or links: the web layer admits a join link and
// hands the connection over with ServeWS; nothing here reaches back up.
package signaling
