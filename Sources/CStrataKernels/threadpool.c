/* threadpool.c — a small fork-join pool for the kernels.
 *
 * Workers spin briefly after each job (a training step dispatches dozens of short jobs in
 * a row) and then sleep on a condition variable, so an idle process uses no CPU. Spinning
 * threads yield now and then, so a machine with fewer free cores than threads degrades to
 * time-slicing instead of burning the slices in busy waits. A job
 * started while another is running (for example from a second host thread) runs inline
 * on the caller, part after part with the same split: the pool never deadlocks and results
 * do not depend on who ran them. */
#include "strata_kernels.h"

#include "sk_blas.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SK_PAUSE() _mm_pause()
#else
#define SK_PAUSE() ((void)0)
#endif

#define SK_MAX_THREADS 64
#define SK_SPIN_NS 300000 /* spin this long after a job before sleeping */

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_t threads[SK_MAX_THREADS];
    int32_t started;          /* worker threads running (excluding the caller) */
    int32_t nthreads;         /* threads used for jobs, caller included */
    _Atomic uint64_t generation;
    _Atomic int32_t pending;  /* worker parts not finished yet */
    _Atomic int32_t busy;     /* 1 while a job is being dispatched */
    sk_task_fn fn;
    void *ctx;
    int64_t n;
    int32_t parts;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

double sk_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_part(int32_t part) {
    int64_t begin = pool.n * part / pool.parts;
    int64_t end = pool.n * (part + 1) / pool.parts;
    if (end > begin) pool.fn(pool.ctx, begin, end, part);
}

static void *worker_main(void *arg) {
    int32_t index = (int32_t)(intptr_t)arg; /* 1-based: part index */
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (g == seen) {
            double start = sk_now();
            int32_t spins = 0;
            while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
                SK_PAUSE();
                if (++spins == 256) {
                    spins = 0;
                    if ((sk_now() - start) * 1e9 > SK_SPIN_NS) break;
                    sched_yield(); /* let a descheduled caller run when cores are oversubscribed */
                }
            }
            if (g == seen) {
                pthread_mutex_lock(&pool.mutex);
                while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool.wake, &pool.mutex);
                pthread_mutex_unlock(&pool.mutex);
            }
        }
        seen = g;
        if (index < pool.parts) {
            run_part(index);
            atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
        }
    }
    return NULL;
}

static void pool_init(void) {
    sk_blas_set_threads(1);
    if (pool.nthreads == 0) {
        const char *env = getenv("STRATA_THREADS");
        int32_t n = env ? atoi(env) : 0;
        if (n <= 0) n = 2;
        pool.nthreads = n > SK_MAX_THREADS ? SK_MAX_THREADS : n;
    }
}

static void ensure_workers(int32_t n) {
    pthread_mutex_lock(&pool.mutex);
    while (pool.started < n - 1) {
        pool.started++;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&pool.threads[pool.started], &attr, worker_main,
                           (void *)(intptr_t)pool.started) != 0) {
            pool.started--;
            pool.nthreads = pool.started + 1; /* run with what we have */
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&pool.mutex);
}

void sk_set_threads(int32_t n) {
    pthread_once(&pool_once, pool_init);
    if (n < 1) n = 1;
    if (n > SK_MAX_THREADS) n = SK_MAX_THREADS;
    /* Wait for any running job before changing the size. */
    int32_t expected = 0;
    while (!atomic_compare_exchange_weak(&pool.busy, &expected, 1)) { expected = 0; SK_PAUSE(); }
    pool.nthreads = n;
    atomic_store(&pool.busy, 0);
    sk_blas_set_threads(1);
}

int32_t sk_threads(void) {
    pthread_once(&pool_once, pool_init);
    return pool.nthreads;
}

void sk_parallel_for(int64_t n, int64_t grain, sk_task_fn fn, void *ctx) {
    if (n <= 0) return;
    pthread_once(&pool_once, pool_init);
    if (grain < 1) grain = 1;
    int64_t parts = (n + grain - 1) / grain;
    if (parts > pool.nthreads) parts = pool.nthreads;
    if (parts <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    ensure_workers(pool.nthreads);
    if (parts > pool.started + 1) parts = pool.started + 1;
    int32_t expected = 0;
    if (parts <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        /* Run inline, but split exactly as the pool would: a kernel that reduces per part
         * then gives the same bits whichever thread ran it. */
        for (int64_t part = 0; part < parts; part++) {
            int64_t begin = n * part / parts, end = n * (part + 1) / parts;
            if (end > begin) fn(ctx, begin, end, (int32_t)part);
        }
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.parts = (int32_t)parts;
    atomic_store_explicit(&pool.pending, (int32_t)parts - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool.mutex);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mutex);
    run_part(0);
    int32_t spins = 0;
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
        SK_PAUSE();
        if (++spins >= 1024) { spins = 0; sched_yield(); }
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}
