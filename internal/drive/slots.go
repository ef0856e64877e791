package drive

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The per-account upload queue lives beside the uploader it protects: each
// upload holds a connection to Google (and, for a stream, an 8 MiB chunk).

const (
	// defaultUploadsPerAccount bounds one account's concurrent uploads: each
	// holds a connection to Google (and, for a stream, an 8 MiB chunk), and
	// Google rate-limits a user's parallel writes anyway.
	defaultUploadsPerAccount = 4
	// defaultUploadQueue is how many more uploads may wait for a slot; the
	// calls beyond it fail at once rather than pile up (an inline upload
	// holds its content in memory while it waits).
	defaultUploadQueue = 16
	// defaultUploadQueueWait is the longest a call waits for a slot.
	defaultUploadQueueWait = time.Minute
	// queueProgressEvery is how often a waiting call tells the client it is
	// still queued, which keeps clients that reset their timeout on
	// progress from giving up.
	queueProgressEvery = 10 * time.Second
)

// SlotError is a call refused an upload slot; its text is a sentence for
// the person, saying what to do next. It wraps ErrUploadQueue, or the
// context's error when the call was cancelled while it waited.
type SlotError struct {
	msg   string
	cause error
}

func (e *SlotError) Error() string { return e.msg }
func (e *SlotError) Unwrap() error { return e.cause }

func slotErrorf(cause error, format string, args ...any) error {
	return &SlotError{msg: fmt.Sprintf(format, args...), cause: cause}
}

// UploadSlots bounds how many uploads each account runs at once. A call
// beyond the bound waits its turn (first come, first served) for a while:
// an assistant that sends ten files at once should see ten uploads succeed,
// not six errors to retry. Only when the queue is long, or the wait too
// long, does a call fail, with a sentence saying why.
type UploadSlots struct {
	max, queue int
	wait       time.Duration

	mu       sync.Mutex
	accounts map[string]*accountSlots
}

type accountSlots struct {
	running chan struct{} // one element per running upload
	waiting int
}

// NewUploadSlots lets each account run max uploads at once (0: 4), with
// queue more waiting (0: 16, negative: none) for at most wait (0: 1 min).
func NewUploadSlots(max, queue int, wait time.Duration) *UploadSlots {
	if max <= 0 {
		max = defaultUploadsPerAccount
	}
	if queue < 0 {
		queue = 0
	} else if queue == 0 {
		queue = defaultUploadQueue
	}
	if wait <= 0 {
		wait = defaultUploadQueueWait
	}
	return &UploadSlots{max: max, queue: queue, wait: wait, accounts: map[string]*accountSlots{}}
}

// ErrUploadQueue is the cause of a call refused a slot (a *SlotError).
var ErrUploadQueue = errors.New("drive: too many uploads for one account")

// Acquire takes one of email's upload slots, waiting for one if all are
// taken. waiting, if not nil, is called when the call starts waiting and
// then now and then while it waits. The returned release must be called.
func (s *UploadSlots) Acquire(ctx context.Context, email string, waiting func(running int)) (release func(), err error) {
	s.mu.Lock()
	a := s.accounts[email]
	if a == nil {
		a = &accountSlots{running: make(chan struct{}, s.max)}
		s.accounts[email] = a
	}
	select {
	case a.running <- struct{}{}:
		s.mu.Unlock()
		return s.releaser(email, a), nil
	default:
	}
	if waiting := a.waiting; waiting >= s.queue {
		s.mu.Unlock()
		return nil, slotErrorf(ErrUploadQueue, "%s already has %d uploads running and %d waiting, the most this server allows. "+
			"Wait for some of them to finish, then call again.", email, s.max, waiting)
	}
	a.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		a.waiting--
		s.forgetIdleLocked(email, a)
		s.mu.Unlock()
	}()

	timeout := time.NewTimer(s.wait)
	defer timeout.Stop()
	tick := time.NewTicker(queueProgressEvery)
	defer tick.Stop()
	if waiting != nil {
		waiting(s.max)
	}
	for {
		select {
		case a.running <- struct{}{}:
			return s.releaser(email, a), nil
		case <-tick.C:
			if waiting != nil {
				waiting(s.max)
			}
		case <-timeout.C:
			return nil, slotErrorf(ErrUploadQueue, "%s has had %d uploads running for the last %s and none finished, so this one did not start. "+
				"Call again once one of them has finished.", email, s.max, s.wait)
		case <-ctx.Done():
			return nil, slotErrorf(ctx.Err(), "The upload was cancelled while it waited for one of %s's %d running uploads to finish; nothing was uploaded.", email, s.max)
		}
	}
}

func (s *UploadSlots) releaser(email string, a *accountSlots) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			<-a.running
			s.forgetIdleLocked(email, a)
			s.mu.Unlock()
		})
	}
}

// forgetIdleLocked drops an account nobody uploads for, so the map holds
// only the accounts busy right now.
func (s *UploadSlots) forgetIdleLocked(email string, a *accountSlots) {
	if len(a.running) == 0 && a.waiting == 0 && s.accounts[email] == a {
		delete(s.accounts, email)
	}
}
