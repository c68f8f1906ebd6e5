#include "core/pool.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct worker_arg {
	struct pool *pool;
	size_t index;
};

static void *worker_main(void *data)
{
	struct worker_arg *a = data;
	struct pool *pool = a->pool;
	size_t index = a->index;
	free(a);
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->todo_head == pool->ntodo && !pool->stopping)
			pthread_cond_wait(&pool->has_work, &pool->lock);
		if (pool->todo_head == pool->ntodo && pool->stopping)
			break;
		void *task = pool->todo[pool->todo_head++];
		pthread_mutex_unlock(&pool->lock);
		pool->fn(task, index);
		pthread_mutex_lock(&pool->lock);
		ALLOC_GROW(pool->done, pool->ndone + 1, pool->adone);
		pool->done[pool->ndone++] = task;
		pthread_cond_signal(&pool->has_done);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

void pool_init(struct pool *pool, size_t nthreads, void (*fn)(void *task, size_t worker))
{
	memset(pool, 0, sizeof(*pool));
	pool->fn = fn;
	pool->nthreads = nthreads ? nthreads : 1;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->has_work, NULL);
	pthread_cond_init(&pool->has_done, NULL);
	pool->threads = xcalloc(pool->nthreads, sizeof(*pool->threads));
	for (size_t i = 0; i < pool->nthreads; i++) {
		struct worker_arg *a = xmalloc(sizeof(*a));
		a->pool = pool;
		a->index = i;
		pthread_create(&pool->threads[i], NULL, worker_main, a);
	}
}

void pool_submit(struct pool *pool, void *task)
{
	pthread_mutex_lock(&pool->lock);
	ALLOC_GROW(pool->todo, pool->ntodo + 1, pool->atodo);
	pool->todo[pool->ntodo++] = task;
	pool->running++;
	pthread_cond_signal(&pool->has_work);
	pthread_mutex_unlock(&pool->lock);
}

size_t pool_pending(struct pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	size_t n = pool->running;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void *pool_wait(struct pool *pool)
{
	void *task = NULL;
	pthread_mutex_lock(&pool->lock);
	if (pool->running) {
		while (pool->done_head == pool->ndone)
			pthread_cond_wait(&pool->has_done, &pool->lock);
		task = pool->done[pool->done_head++];
		pool->running--;
	}
	pthread_mutex_unlock(&pool->lock);
	return task;
}

void pool_release(struct pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->has_work);
	pthread_mutex_unlock(&pool->lock);
	for (size_t i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	free(pool->threads);
	free(pool->todo);
	free(pool->done);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->has_work);
	pthread_cond_destroy(&pool->has_done);
	memset(pool, 0, sizeof(*pool));
}
