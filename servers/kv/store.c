/*
 * The key-value table: KV_SLOTS fixed slots, found by a linear scan. Small
 * on purpose; a real store would hash and grow with malloc.
 */
#include "kv.h"

#include <idl/kv_types.h>
#include <mica/error.h>
#include <string.h>

struct slot {
	char key[KV_PUT_KEY_MAX + 1]; /* "" when the slot is free */
	uint8_t value[KV_PUT_VALUE_MAX];
	uint32_t len;
};

static struct slot slots[KV_SLOTS];

static struct slot *find(const char *key)
{
	for (int i = 0; i < KV_SLOTS; i++)
		if (slots[i].key[0] && strcmp(slots[i].key, key) == 0)
			return &slots[i];
	return 0;
}

int store_put(const char *key, const uint8_t *value, uint32_t len)
{
	struct slot *s = find(key);

	if (!key[0])
		return MICA_EINVAL;
	for (int i = 0; !s && i < KV_SLOTS; i++)
		if (!slots[i].key[0])
			s = &slots[i];
	if (!s)
		return MICA_ENOMEM;
	strcpy(s->key, key);
	memcpy(s->value, value, len);
	s->len = len;
	return 0;
}

int store_get(const char *key, uint8_t *value, uint32_t *len)
{
	struct slot *s = find(key);

	if (!s)
		return MICA_ENOENT;
	memcpy(value, s->value, s->len);
	*len = s->len;
	return 0;
}

int store_remove(const char *key)
{
	struct slot *s = find(key);

	if (!s)
		return MICA_ENOENT;
	s->key[0] = 0;
	s->len = 0;
	return 0;
}

uint32_t store_count(void)
{
	uint32_t n = 0;

	for (int i = 0; i < KV_SLOTS; i++)
		n += slots[i].key[0] != 0;
	return n;
}
