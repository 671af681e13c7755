/*
 * yank's YankInstance flat union, as qemu-system-x86_64 7.2.22 (Debian 12)
 * answered on this machine: each variant's own member is required, the
 * other variants' members are unexpected, and every instance is checked
 * before any is looked up.
 */
#include <string.h>

#include "fixture.h"
#include "harness.h"

#define ERR(cls, desc) "{\"error\": {\"class\": \"" cls "\", \"desc\": \"" desc "\"}}\r\n"
#define YANK(list) "{\"execute\":\"yank\",\"arguments\":{\"instances\":[" list "]}}"

static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    return qmpk_check_str(got, strlen(got), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)

static void test_each_variant_needs_its_member_and_only_it(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, YANK("{\"type\":\"block-node\"}"),
           ERR("GenericError", "Parameter 'instances[0].node-name' is missing"));
    EXPECT(f, YANK("{\"type\":\"chardev\"}"),
           ERR("GenericError", "Parameter 'instances[0].id' is missing"));
    EXPECT(f, YANK("{\"type\":\"block-node\",\"id\":\"x\"}"),
           ERR("GenericError", "Parameter 'instances[0].node-name' is missing"));
    EXPECT(f, YANK("{\"type\":\"block-node\",\"node-name\":\"n\",\"id\":\"x\"}"),
           ERR("GenericError", "Parameter 'instances[0].id' is unexpected"));
    EXPECT(f, YANK("{\"type\":\"chardev\",\"id\":\"m9\",\"node-name\":\"n\"}"),
           ERR("GenericError", "Parameter 'instances[0].node-name' is unexpected"));
    EXPECT(f, YANK("{\"type\":\"migration\",\"id\":\"x\"}"),
           ERR("GenericError", "Parameter 'instances[0].id' is unexpected"));
    EXPECT(f, YANK("{\"type\":\"migration\"}"), ERR("DeviceNotFound", "Instance not found"));
    EXPECT(f, YANK("{\"type\":\"block-node\",\"node-name\":\"n\"}"),
           ERR("DeviceNotFound", "Instance not found"));
    fx_free(f);
}

static void test_every_instance_is_checked_before_any_lookup(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, YANK("{\"type\":\"migration\"},{\"type\":\"chardev\"}"),
           ERR("GenericError", "Parameter 'instances[1].id' is missing"));
    EXPECT(f, YANK("{\"type\":\"chardev\",\"id\":\"zz\"},{\"type\":\"chardev\"}"),
           ERR("GenericError", "Parameter 'instances[1].id' is missing"));
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "each variant needs its member and only it", test_each_variant_needs_its_member_and_only_it },
        { "every instance is checked before any lookup",
          test_every_instance_is_checked_before_any_lookup },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
