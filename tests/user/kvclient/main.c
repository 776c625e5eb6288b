/*
 * The key-value store's test client (tests/system/test_kv.py): looks up
 * "kv" with init and calls every method of idl/kv.idl, with its errors.
 * Prints one line per check: TEST kv.<id> PASS, or FAIL and a detail.
 */
#include <idl/kv_client.h>
#include <idl/names_client.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 16 /* servers/kv/kv.h KV_SLOTS */

static int failures; /* the exit code: a failed test fails the program, and so the run */

static void result(const char *id, bool ok, long detail)
{
	if (ok) {
		printf("TEST kv.%s PASS\n", id);
	} else {
		printf("TEST kv.%s FAIL %ld\n", id, detail);
		failures++;
	}
}

static uint8_t value[KV_GET_VALUE_MAX]; /* static: the reply lands in mapped pages */

int main(void)
{
	mica_handle_t kv = MICA_HANDLE_NONE;
	uint32_t n = 99, len = 0;
	char key[16];
	int rc;

	memset(value, 0, sizeof(value));
	rc = names_lookup(rt_names_handle(), "kv", &kv);
	result("lookup", rc == 0, rc);
	if (rc < 0)
		return 1;

	rc = kv_count(kv, &n);
	result("count_empty", rc == 0 && n == 0, rc ? rc : (long)n);

	rc = kv_put(kv, "colour", "blue", 4);
	int got = rc ? rc : kv_get(kv, "colour", value, &len);
	result("put_get", got == 0 && len == 4 && memcmp(value, "blue", 4) == 0,
	       got ? got : (long)len);

	rc = kv_put(kv, "colour", "green!", 6);
	got = rc ? rc : kv_get(kv, "colour", value, &len);
	result("replace", got == 0 && len == 6 && memcmp(value, "green!", 6) == 0,
	       got ? got : (long)len);

	/* The biggest value, every byte checked. */
	static uint8_t big[KV_PUT_VALUE_MAX];
	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	rc = kv_put(kv, "big", big, sizeof(big));
	got = rc ? rc : kv_get(kv, "big", value, &len);
	result("big_value", got == 0 && len == sizeof(big) && memcmp(value, big, sizeof(big)) == 0,
	       got ? got : (long)len);

	rc = kv_get(kv, "nosuch", value, &len);
	result("get_unknown", rc == MICA_ENOENT, rc);

	rc = kv_put(kv, "", "x", 1);
	result("empty_key", rc == MICA_EINVAL, rc);

	rc = kv_count(kv, &n);
	result("count", rc == 0 && n == 2, rc ? rc : (long)n);

	rc = kv_remove(kv, "colour");
	got = rc ? rc : kv_get(kv, "colour", value, &len);
	result("remove", rc == 0 && got == MICA_ENOENT, rc ? rc : got);

	rc = kv_remove(kv, "colour");
	result("remove_unknown", rc == MICA_ENOENT, rc);

	/* Fill the table: one key is there ("big"), SLOTS - 1 more fit. */
	int filled = 0;
	for (int i = 0; i < SLOTS - 1 && filled == 0; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		filled = kv_put(kv, key, &i, sizeof(i));
	}
	rc = kv_put(kv, "one-too-many", "x", 1);
	result("full", filled == 0 && rc == MICA_ENOMEM, filled ? filled : rc);

	/* A key already there can still be replaced when full, and freeing one makes room. */
	int replace = kv_put(kv, "k0", "y", 1);
	int freed = kv_remove(kv, "k1");
	int again = freed ? freed : kv_put(kv, "one-too-many", "x", 1);
	result("full_replace_and_free", replace == 0 && again == 0, replace ? replace : again);

	rc = kv_count(kv, &n);
	result("count_full", rc == 0 && n == SLOTS, rc ? rc : (long)n);
	return failures ? 1 : 0;
}
