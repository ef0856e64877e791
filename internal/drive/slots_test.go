package drive

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const alice = "alice@example.com"

func TestUploadSlots_FifthWaitsForAFreeSlot(t *testing.T) {
	s := NewUploadSlots(4, 16, time.Minute)
	var releases []func()
	for i := range 4 {
		r, err := s.Acquire(context.Background(), alice, nil)
		if err != nil {
			t.Fatalf("upload %d: %v", i+1, err)
		}
		releases = append(releases, r)
	}
	var waited atomic.Int32
	got := make(chan error, 1)
	go func() {
		r, err := s.Acquire(context.Background(), alice, func(running int) {
			if running == 4 {
				waited.Add(1)
			}
		})
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the fifth upload did not wait: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// Another account is not held up by alice's uploads.
	rb, err := s.Acquire(context.Background(), "bob@example.com", nil)
	if err != nil {
		t.Fatalf("bob waited for alice: %v", err)
	}
	rb()
	releases[0]()
	releases[0]() // releasing twice frees one slot only
	if err := <-got; err != nil {
		t.Fatalf("the fifth upload: %v", err)
	}
	if waited.Load() != 1 {
		t.Fatalf("the waiting callback ran %d times, want once", waited.Load())
	}
	for _, r := range releases[1:] {
		r()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.accounts) != 0 {
		t.Fatalf("idle accounts are still remembered: %v", s.accounts)
	}
}

func TestUploadSlots_RefusesWithASentenceWhenTheQueueIsFullOrTheWaitTooLong(t *testing.T) {
	s := NewUploadSlots(1, 1, 30*time.Millisecond)
	r, err := s.Acquire(context.Background(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r()
	queued := make(chan error, 1)
	inQueue := make(chan struct{})
	go func() {
		var once sync.Once
		_, err := s.Acquire(context.Background(), alice, func(int) { once.Do(func() { close(inQueue) }) })
		queued <- err
	}()
	<-inQueue // the upload-queue hook: it is counted as waiting
	_, err = s.Acquire(context.Background(), alice, nil)
	if !errors.Is(err, ErrUploadQueue) || !strings.Contains(err.Error(), "1 uploads running and 1 waiting") {
		t.Fatalf("beyond the queue: %v", err)
	}
	err = <-queued
	if !errors.Is(err, ErrUploadQueue) || !strings.Contains(err.Error(), "none finished") {
		t.Fatalf("after the longest wait: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancelWhileWaiting := func(int) { cancel() } // cancelled once it waits
	if _, err := s.Acquire(ctx, alice, cancelWhileWaiting); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing was uploaded") {
		t.Fatalf("cancelled while waiting: %v", err)
	}
}
