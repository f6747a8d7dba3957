package daemon

import "container/heap"

// queue is a min-heap of entries by due time.
type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx = i
	q[j].idx = j
}

func (q *queue) Push(x any) {
	e := x.(*entry)
	e.idx = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.idx = -1
	return e
}

func (q *queue) push(e *entry) {
	if e.idx >= 0 {
		heap.Fix(q, e.idx)
		return
	}
	heap.Push(q, e)
}

func (q *queue) remove(e *entry) {
	if e.idx >= 0 {
		heap.Remove(q, e.idx)
	}
}
