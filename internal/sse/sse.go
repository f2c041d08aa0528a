// Package sse splits a Server-Sent Events stream (the event stream format
// of the WHATWG HTML standard) into events as its chunks arrive, so that a
// filter can read an event, or drop it, without holding the whole response
// body.
//
// The format: lines end with CRLF, LF or CR; an event is a run of lines
// ended by a blank line; a line that starts with ':' is a comment; any
// other line is a field, "name:value" with one space after the colon
// removed, or "name" alone with an empty value. The values of an event's
// "data" fields are joined with "\n". A UTF-8 byte order mark at the very
// start of the stream is ignored.
//
// A Splitter keeps no more than one event's bytes, bounded by its Max, and
// returns every byte of the stream once, in order: a filter that forwards
// the Raw bytes of the segments it keeps sends a valid stream.
package sse

// DefaultMax is the Max of a Splitter whose Max is not set.
const DefaultMax = 64 << 10

// bom is the UTF-8 byte order mark.
const bom = "\xef\xbb\xbf"

// Splitter cuts a stream of chunks into segments: whole events, and bytes
// passed through unparsed. It carries an incomplete event from one chunk to
// the next, up to Max bytes.
//
// The zero Splitter is ready for a stream. After a Feed call with end set
// it is ready for the next one.
type Splitter struct {
	// Max bounds the bytes of one event the Splitter carries (DefaultMax
	// when 0 or less). An event longer than that is passed through
	// unparsed, in segments with Event false, up to and including the
	// blank line that ends it.
	//
	// An event's length counts its bytes up to the first byte of its blank
	// line: the LF of a CRLF that ends the blank line is not counted, as it
	// may arrive in a later chunk, so that whether an event is parsed does
	// not depend on where the chunks split. A parsed event's Raw thus holds
	// at most Max+1 bytes, and Pending never exceeds Max.
	Max int

	held  []byte    // the current event's bytes from earlier chunks
	spare []byte    // a second buffer, for held bytes while held is returned
	data  []byte    // joined data values of this call's events
	segs  []Segment // this call's segments
	name  string    // the last event name seen, reused to spare allocations

	size   int  // the current event's bytes so far, as Max counts them
	inLine bool // the current line has content: a line end does not end the event
	skipLF bool // the last byte was a CR that ended a line: an LF next is part of it
	pass   bool // the current event is over Max: its bytes go through unparsed
	begun  bool // past the stream's first bytes, where a BOM may be
	bomN   int  // the bytes of a BOM seen at the stream's start
	later  bool // the current event is not the stream's first

	// The last segment, when it is bytes passed through from this call's
	// chunk, is chunk[mergeFrom:mergeTo]: more passed bytes from mergeTo on
	// extend it rather than add a segment. mergeTo is -1 otherwise.
	mergeFrom, mergeTo int
}

// Segment is a run of the stream's bytes, in order.
type Segment struct {
	// Raw is the bytes, as they came: with Event set, the event with the
	// blank line that ends it (none when the stream ends first).
	Raw []byte
	// Event is set when Raw is one whole event, parsed into Data and Name.
	// An event is a run of lines with at least one field (a line that is
	// not a comment), of at most Max bytes. Comments, blank lines and
	// events over Max come with Event false.
	Event bool
	// Data is the event's data field values, joined with "\n"; nil when it
	// has no data field. A browser dispatches an event that a blank line
	// ends exactly when its Data is not nil.
	Data []byte
	// Name is the value of the event's last "event" field, "" when it has
	// none.
	Name string
}

// Feed adds chunk and returns the segments it completes, in stream order;
// the bytes of an event not yet complete are kept for the next call.
//
// With end set (chunk is the stream's last, possibly empty) Feed also
// returns what it kept. An event the stream ends without a blank line is
// returned as an event (Event true) when it has a field: the standard
// dispatches nothing for it, but the clients of LLM streaming APIs commonly
// do, and a filter looking for a usage event should see it.
//
// A CR that ends the blank line of an event ends the event at once: when
// the chunk ends on that CR, the event is returned without waiting for the
// next chunk, and an LF that starts the next chunk, the rest of a CRLF, is
// returned alone in a segment with Event false. A CR that ends a field
// line at the end of a chunk is held with its event, and an LF after it
// counts as part of the same line end, not as a blank line.
//
// The segments next to an event end and begin where events do, so a
// filter that drops an event's segment leaves a valid stream: at most an
// LF that now follows another line end is left over, which dispatches
// nothing.
//
// The returned slice and the slices in its segments are valid until the
// next call: they point into chunk or into the Splitter's buffers, which it
// reuses, the returned slice among them.
func (s *Splitter) Feed(chunk []byte, end bool) []Segment {
	max := s.Max
	if max <= 0 {
		max = DefaultMax
	}
	s.segs = s.segs[:0]
	s.data = s.data[:0]
	s.spare = s.spare[:0]
	s.mergeTo = -1

	start := 0 // chunk[start:i] is the current event's, not yet held or returned
	i := 0
	for i < len(chunk) {
		c := chunk[i]
		if s.skipLF {
			s.skipLF = false
			if c == '\n' {
				if s.size == 0 {
					// The LF of the CRLF that ended the last chunk's last event.
					s.passThrough(chunk, i, i+1)
					i++
					start = i
					continue
				}
				// The LF of a CRLF that ends a field or a comment.
				i++
				s.grow(1, max)
				continue
			}
		}
		if !s.begun {
			if c == bom[s.bomN] {
				s.bomN++
				s.begun = s.bomN == len(bom)
				i++
				s.grow(1, max)
				continue
			}
			// Not a BOM: the bytes taken for one are the line's content.
			s.inLine = s.bomN > 0
			s.begun = true
		}
		if c != '\r' && c != '\n' {
			j := i + 1
			for j < len(chunk) && chunk[j] != '\r' && chunk[j] != '\n' {
				j++
			}
			s.inLine = true
			s.grow(j-i, max)
			i = j
			continue
		}
		i++
		s.grow(1, max)
		if s.inLine {
			// The end of a field or a comment.
			s.inLine = false
			s.skipLF = c == '\r'
			continue
		}
		// A blank line: the event ends here, with the LF of a CRLF when the
		// chunk holds it.
		if c == '\r' {
			if i == len(chunk) {
				s.skipLF = true
			} else if chunk[i] == '\n' {
				i++
			}
		}
		s.finish(chunk, start, i)
		start = i
	}

	if end {
		s.finish(chunk, start, len(chunk))
		s.size, s.inLine, s.skipLF, s.pass = 0, false, false, false
		s.begun, s.bomN, s.later = false, 0, false
		return s.segs
	}
	switch {
	case s.pass:
		s.passThrough(chunk, start, len(chunk))
	case len(s.held) > 0:
		s.held = append(s.held, chunk[start:]...)
	case start < len(chunk):
		// held may be returned by this call: keep the bytes in the other
		// buffer, which none of this call's segments use.
		s.spare = append(s.spare, chunk[start:]...)
		s.held, s.spare = s.spare, s.held[:0]
	}
	return s.segs
}

// Pending is the number of bytes the Splitter holds (for tests and memory
// checks): the bytes of an event not yet complete, at most Max.
func (s *Splitter) Pending() int { return len(s.held) }

// grow counts n more bytes of the current event. Past max the event is
// passed through: the bytes held for it are returned now, and the rest as
// they come.
func (s *Splitter) grow(n, max int) {
	s.size += n
	if s.size <= max || s.pass {
		return
	}
	s.pass = true
	if len(s.held) > 0 {
		s.add(Segment{Raw: s.held[:len(s.held):len(s.held)]})
		s.held = s.held[:0]
	}
}

// finish returns the current event, whose bytes are the held ones and
// chunk[from:to], and starts the next one.
func (s *Splitter) finish(chunk []byte, from, to int) {
	switch {
	case s.pass:
		s.passThrough(chunk, from, to)
	case len(s.held) > 0:
		s.held = append(s.held, chunk[from:to]...)
		seg := s.parse(s.held[:len(s.held):len(s.held)])
		s.add(seg)
		s.held = s.held[:0]
	case from < to:
		seg := s.parse(chunk[from:to:to])
		if seg.Event {
			s.add(seg)
		} else {
			s.passThrough(chunk, from, to)
		}
	}
	s.size, s.inLine, s.pass, s.later = 0, false, false, true
}

// add appends seg to the call's segments.
func (s *Splitter) add(seg Segment) {
	s.segs = append(s.segs, seg)
	s.mergeTo = -1
}

// passThrough returns chunk[from:to] unparsed, in the last segment when
// that one ends where these bytes start.
func (s *Splitter) passThrough(chunk []byte, from, to int) {
	if from == to {
		return
	}
	if s.mergeTo == from {
		s.segs[len(s.segs)-1].Raw = chunk[s.mergeFrom:to:to]
	} else {
		s.add(Segment{Raw: chunk[from:to:to]})
		s.mergeFrom = from
	}
	s.mergeTo = to
}

// parse reads the event in raw: the lines of one event, with or without
// the blank line that ends it.
func (s *Splitter) parse(raw []byte) Segment {
	seg := Segment{Raw: raw}
	p := 0
	if !s.later && len(raw) >= len(bom) && string(raw[:len(bom)]) == bom {
		p = len(bom)
	}
	var first []byte // the first data value
	values := 0      // the data values so far
	joined := 0      // where the event's data starts in s.data, once there are two values
	for p < len(raw) {
		e := p
		for e < len(raw) && raw[e] != '\r' && raw[e] != '\n' {
			e++
		}
		line := raw[p:e:e]
		if e < len(raw) {
			e++
			if raw[e-1] == '\r' && e < len(raw) && raw[e] == '\n' {
				e++
			}
		}
		p = e
		if len(line) == 0 {
			break // the blank line
		}
		if line[0] == ':' {
			continue // a comment
		}
		seg.Event = true
		name, value := line, line[len(line):]
		for k, c := range line {
			if c == ':' {
				name, value = line[:k], line[k+1:]
				if len(value) > 0 && value[0] == ' ' {
					value = value[1:]
				}
				break
			}
		}
		switch {
		case equal(name, "data"):
			values++
			if values == 1 {
				first = value
				break
			}
			if values == 2 {
				joined = len(s.data)
				s.data = append(s.data, first...)
			}
			s.data = append(s.data, '\n')
			s.data = append(s.data, value...)
		case equal(name, "event"):
			if len(value) == 0 {
				seg.Name = ""
			} else if equal(value, s.name) {
				seg.Name = s.name
			} else {
				s.name = string(value)
				seg.Name = s.name
			}
		}
	}
	switch {
	case values == 1:
		seg.Data = first // a slice of raw: not nil, even when empty
	case values > 1:
		seg.Data = s.data[joined:len(s.data):len(s.data)]
	}
	return seg
}

// equal reports whether b holds the bytes of str, without converting
// either.
func equal(b []byte, str string) bool {
	if len(b) != len(str) {
		return false
	}
	for i := range b {
		if b[i] != str[i] {
			return false
		}
	}
	return true
}
