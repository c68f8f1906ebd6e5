/* A small fixed worker pool: N threads take tasks in submission order and
 * hand them back, finished, to the one thread that waits on the pool. The
 * submitting thread keeps all the bookkeeping (no locks outside this file);
 * workers report failures inside their task, never by exiting.
 *
 *   struct pool pool;
 *   pool_init(&pool, 4, run_task);          // run_task(task, worker_index)
 *   pool_submit(&pool, task);
 *   void *done = pool_wait(&pool);          // a finished task
 *   pool_release(&pool);
 *
 * Used by dango run (models) and dango sync (extracts). */
#ifndef DANGO_CORE_POOL_H
#define DANGO_CORE_POOL_H
#include <pthread.h>
#include <stddef.h>

struct pool {
	pthread_t *threads;
	size_t nthreads;
	void (*fn)(void *task, size_t worker);
	pthread_mutex_t lock;
	pthread_cond_t has_work, has_done;
	void **todo, **done;          /* ring-less queues: arrays with heads */
	size_t ntodo, todo_head, atodo, ndone, done_head, adone;
	size_t running;
	int stopping;
};

void pool_init(struct pool *pool, size_t nthreads, void (*fn)(void *task, size_t worker));
void pool_submit(struct pool *pool, void *task);
/* Wait for a finished task; NULL when nothing is queued or running. */
void *pool_wait(struct pool *pool);
/* Tasks submitted and not yet handed back by pool_wait. */
size_t pool_pending(struct pool *pool);
/* Stop the workers (after the tasks they are running) and free the pool. */
void pool_release(struct pool *pool);

#endif
