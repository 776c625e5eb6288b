/* The key-value store's private interface (servers/kv/README.md). */
#ifndef KV_KV_H
#define KV_KV_H

#include <stdint.h>

#define KV_SLOTS 16 /* keys the table holds; MICA_ENOMEM past that */

/* store.c: the table. Each returns 0 or a negative MICA_E* error. */
int store_put(const char *key, const uint8_t *value, uint32_t len);
int store_get(const char *key, uint8_t *value, uint32_t *len);
int store_remove(const char *key);
uint32_t store_count(void);

#endif /* KV_KV_H */
