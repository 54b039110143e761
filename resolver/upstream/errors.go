package upstream

import "errors"

// Sentinel errors. Exchange wraps them with the group name, the question and
// what each target did, so logs say why while callers test with errors.Is.
var (
	// ErrNoAnswer means no target gave a usable reply; the caller answers
	// SERVFAIL or serves stale. Every Exchange failure except ErrOverloaded
	// and ErrBadRequest wraps it.
	ErrNoAnswer = errors.New("no usable answer from upstream")
	// ErrAllDown means every target was marked down and none was due for a
	// probe, so no query was sent. It is wrapped together with ErrNoAnswer.
	ErrAllDown error = fleeting("every upstream target is down")
	// ErrOverloaded means every target that could be tried already had
	// MaxInFlight queries outstanding, so no query was sent.
	ErrOverloaded error = fleeting("every upstream target is at its in-flight limit")
	// ErrBudget means the client query behind the exchange had spent its
	// upstream budget (report.Budget), so no query was sent.
	ErrBudget error = fleeting("the query's upstream budget is spent")
	// ErrBadRequest means the request did not hold exactly one question.
	ErrBadRequest = errors.New("upstream request must hold exactly one question")
	// ErrBadTarget means a target string in GroupOptions could not be parsed.
	ErrBadTarget = errors.New("bad upstream target")
	// ErrBadPolicy means ParsePolicy did not know the policy name.
	ErrBadPolicy = errors.New("unknown upstream policy")
)

// fleeting is an error about how things stand on this side at this moment
// (no query was sent), not about what an upstream answered: a cache does
// not remember it as a failure (its Fleeting method says so).
type fleeting string

func (e fleeting) Error() string  { return string(e) }
func (e fleeting) Fleeting() bool { return true }
