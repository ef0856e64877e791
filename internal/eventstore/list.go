package eventstore

// streamList is an intrusive doubly linked list of streams, most recent at
// the front. A stream can be in two lists at once (the store's and its
// session's), each using its own links, which the list finds with at.
type streamList struct {
	front, back *stream
	at          func(*stream) *links
}

func (l *streamList) init(at func(*stream) *links) { l.at = at }

// contains reports whether st is in l.
func (l *streamList) contains(st *stream) bool {
	return l.front == st || l.at(st).prev != nil
}

// pushFront moves st to the front of l, adding it if absent.
func (l *streamList) pushFront(st *stream) {
	if l.front == st {
		return
	}
	l.remove(st)
	lk := l.at(st)
	lk.next = l.front
	if l.front != nil {
		l.at(l.front).prev = st
	} else {
		l.back = st
	}
	l.front = st
}

// remove takes st out of l; it does nothing if st is absent.
func (l *streamList) remove(st *stream) {
	if !l.contains(st) {
		return
	}
	lk := l.at(st)
	if lk.prev != nil {
		l.at(lk.prev).next = lk.next
	} else {
		l.front = lk.next
	}
	if lk.next != nil {
		l.at(lk.next).prev = lk.prev
	} else {
		l.back = lk.prev
	}
	lk.prev, lk.next = nil, nil
}

// newer returns the stream just in front of st (appended to more recently),
// or nil.
func (l *streamList) newer(st *stream) *stream { return l.at(st).prev }
