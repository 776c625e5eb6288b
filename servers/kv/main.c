/*
 * kv: the key-value store (servers/kv/README.md). Makes an endpoint,
 * registers a send-only copy of it with init as "kv", and serves
 * idl/kv.idl on it; the table itself is in store.c.
 */
#include <idl/kv_server.h>
#include <idl/names_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "kv.h"

static int op_put(void *ctx, uint64_t badge, const char *key, const uint8_t *value,
                  uint32_t value_len)
{
	(void)ctx, (void)badge;
	return store_put(key, value, value_len);
}

static int op_get(void *ctx, uint64_t badge, const char *key, uint8_t *value, uint32_t *value_len)
{
	(void)ctx, (void)badge;
	return store_get(key, value, value_len);
}

static int op_remove(void *ctx, uint64_t badge, const char *key)
{
	(void)ctx, (void)badge;
	return store_remove(key);
}

static int op_count(void *ctx, uint64_t badge, uint32_t *n)
{
	(void)ctx, (void)badge;
	*n = store_count();
	return 0;
}

static const struct kv_ops handlers = {
    .put = op_put, .get = op_get, .remove = op_remove, .count = op_count};
static struct ipc_server server; /* 8 KiB of buffers: not on the stack */

int main(void)
{
	int64_t r = mica_endpoint_create();

	if (r < 0) {
		printf("kv: no endpoint: error %s\n", mica_error_name(r));
		return 1;
	}
	mica_handle_t ep = (mica_handle_t)r;

	/* Others get a send-only copy: only we receive on ep. */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0) {
		printf("kv: mint: error %s\n", mica_error_name(r));
		return 2;
	}
	int rc = names_register_name(rt_names_handle(), "kv", (mica_handle_t)r);

	if (rc < 0) {
		printf("kv: register: error %s\n", mica_error_name(rc));
		return 3;
	}
	/* The pager backs pages on first touch; the kernel copies only into mapped ones. */
	memset(&server, 0, sizeof(server));
	kv_server_init(&server, &handlers, 0);
	r = ipc_serve(&server, ep);
	printf("kv: serving ended: error %s\n", mica_error_name(r));
	return 4;
}
