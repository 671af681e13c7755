/*
 * Classification and the QMP envelope: QEMU 7.2's qmp_dispatch() checks,
 * their order (QDict bucket order: extra 41 < bogus 136 < exec-oob 162 <
 * execute 299 < zzz 358 < arguments 447 < id 486) and texts (spec 3.2),
 * and qmpkit's checks of server messages.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "msg.h"

static one_t o;

/* Classifies json and returns the formatted desc (or "" when valid). */
static const char *judge(const char *json, qmpk_peer_t peer, bool oob, qmpk_envelope_t *env)
{
    static char desc[256];
    qmpk_envelope_t tmp;

    desc[0] = '\0';
    if (!CHECK(one_parse(&o, QMPK_DIALECT_QEMU, json))) {
        return "(parse failed)";
    }
    if (qmpk_classify(&o.m, peer, oob, env ? env : &tmp, &o.e) != QMPK_E_OK) {
        qmpk_error_format(&o.e, desc, sizeof(desc));
    }
    return desc;
}

#define JUDGE(json, peer, oob, want) \
    CHECK_EQ_STR(judge((json), (peer), (oob), NULL), strlen(judge((json), (peer), (oob), NULL)), (want))

static void commands_classify_with_name_arguments_and_id(void)
{
    qmpk_envelope_t env;

    CHECK(*judge("{\"execute\":\"query-name\",\"arguments\":{},\"id\":{\"b\":1}}", QMPK_PEER_CLIENT, false, &env) == 0);
    CHECK(env.kind == QMPK_KIND_COMMAND && qmpk_str_eqz(&o.m, env.name, "query-name"));
    CHECK(qmpk_type(&o.m, env.arguments) == QMPK_T_OBJECT && qmpk_type(&o.m, env.id) == QMPK_T_OBJECT);
    CHECK(*judge("{\"exec-oob\":\"migrate-pause\",\"id\":1}", QMPK_PEER_CLIENT, true, &env) == 0);
    CHECK(env.kind == QMPK_KIND_OOB_COMMAND && qmpk_str_eqz(&o.m, env.name, "migrate-pause"));
    CHECK(qmpk_is_oob_request(&o.m));
    CHECK(*judge("{\"execute\":\"x\",\"id\":null}", QMPK_PEER_ANY, false, &env) == 0);
    CHECK(env.kind == QMPK_KIND_COMMAND && qmpk_type(&o.m, env.id) == QMPK_T_NULL && env.arguments == -1);
    CHECK(!qmpk_is_oob_request(&o.m));
}

static void non_objects_and_empty_objects_fail_with_qemus_texts(void)
{
    qmpk_envelope_t env;

    JUDGE("[] ", QMPK_PEER_CLIENT, false, "QMP input must be a JSON object");
    JUDGE("null ", QMPK_PEER_ANY, false, "QMP input must be a JSON object");
    JUDGE("{}", QMPK_PEER_CLIENT, false, "QMP input lacks member 'execute'");
    CHECK(strcmp(judge("{\"id\":\"x\"}", QMPK_PEER_CLIENT, false, &env), "QMP input lacks member 'execute'") == 0);
    CHECK(env.kind == QMPK_KIND_VALUE && qmpk_str_eqz(&o.m, env.id, "x"));
    JUDGE("{ 'execute': true }", QMPK_PEER_CLIENT, false, "QMP input member 'execute' must be a string");
    JUDGE("{ 'execute': 'x', 'arguments': [] }", QMPK_PEER_CLIENT, false, "QMP input member 'arguments' must be an object");
    JUDGE("{ 'execute': 'x', 'extra': true }", QMPK_PEER_CLIENT, false, "QMP input member 'extra' is unexpected");
    JUDGE("{\"execute\":\"x\",\"b\\u00e9\":1}", QMPK_PEER_CLIENT, false, "QMP input member 'b\xc3\xa9' is unexpected");
}

static void the_first_offence_in_qdict_order_decides(void)
{
    JUDGE("{\"execute\":\"x\",\"bogus\":1,\"extra\":2}", QMPK_PEER_CLIENT, false, "QMP input member 'extra' is unexpected");
    JUDGE("{\"execute\":1,\"bogus\":2}", QMPK_PEER_CLIENT, false, "QMP input member 'bogus' is unexpected");
    JUDGE("{\"execute\":1,\"zzz\":2}", QMPK_PEER_CLIENT, false, "QMP input member 'execute' must be a string");
    JUDGE("{\"arguments\":[],\"zzz\":1,\"execute\":\"x\"}", QMPK_PEER_CLIENT, false, "QMP input member 'zzz' is unexpected");
    JUDGE("{\"id\":1,\"arguments\":1,\"execute\":2}", QMPK_PEER_CLIENT, false, "QMP input member 'execute' must be a string");
}

static void exec_oob_is_a_member_only_when_oob_was_negotiated(void)
{
    JUDGE("{\"exec-oob\":\"x\"}", QMPK_PEER_CLIENT, false, "QMP input member 'exec-oob' is unexpected");
    JUDGE("{\"execute\":\"x\",\"exec-oob\":\"y\"}", QMPK_PEER_CLIENT, false, "QMP input member 'exec-oob' is unexpected");
    JUDGE("{\"execute\":\"x\",\"exec-oob\":\"y\"}", QMPK_PEER_CLIENT, true, "QMP input member 'execute' clashes with 'exec-oob'");
    JUDGE("{\"exec-oob\":1}", QMPK_PEER_CLIENT, true, "QMP input member 'exec-oob' must be a string");
    JUDGE("{\"execute\":\"x\",\"exec-oob\":1}", QMPK_PEER_CLIENT, true, "QMP input member 'exec-oob' must be a string");
    /* QEMU takes exec-oob at once even when it will refuse it */
    CHECK(one_parse(&o, QMPK_DIALECT_QEMU, "{\"exec-oob\":\"x\",\"bogus\":1}") && qmpk_is_oob_request(&o.m));
    {
        qmpk_envelope_t env;
        judge("{\"exec-oob\":\"x\",\"bogus\":1}", QMPK_PEER_CLIENT, false, &env);
        CHECK(env.oob_request && env.kind == QMPK_KIND_VALUE);
        judge("{\"exec-oob\":\"x\",\"execute\":\"y\"}", QMPK_PEER_CLIENT, true, &env);
        CHECK(!env.oob_request);
        judge("{\"exec-oob\":\"migrate-pause\"}", QMPK_PEER_CLIENT, true, &env);
        CHECK(env.oob_request && env.kind == QMPK_KIND_OOB_COMMAND);
    }
}

static void server_messages_classify_by_their_key(void)
{
    qmpk_envelope_t env;

    CHECK(*judge("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}",
                 QMPK_PEER_SERVER, false, &env) == 0 && env.kind == QMPK_KIND_GREETING);
    CHECK(*judge("{\"return\": {}, \"id\": 1}", QMPK_PEER_ANY, false, &env) == 0 && env.kind == QMPK_KIND_RETURN
          && qmpk_type(&o.m, env.ret) == QMPK_T_OBJECT);
    CHECK(*judge("{\"id\": 1, \"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}", QMPK_PEER_SERVER, false, &env) == 0
          && env.kind == QMPK_KIND_ERROR && qmpk_str_eqz(&o.m, env.error_class, "GenericError"));
    CHECK(*judge("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}", QMPK_PEER_ANY, false, &env) == 0
          && env.kind == QMPK_KIND_EVENT && env.data == -1);
    JUDGE("{\"error\": {\"class\": \"x\"}}", QMPK_PEER_SERVER, false, "error member must be an object with exactly 'class' and 'desc' strings");
    JUDGE("{\"event\": \"X\"}", QMPK_PEER_SERVER, false, "event member 'timestamp' must be an object with integer 'seconds' and 'microseconds'");
    JUDGE("{\"event\": \"X\", \"data\": 1, \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}", QMPK_PEER_SERVER, false, "event member 'data' must be an object");
    JUDGE("{\"return\": 1, \"x\": 2}", QMPK_PEER_SERVER, false, "server message member 'x' is unexpected");
    JUDGE("{\"return\": 1, \"event\": \"x\"}", QMPK_PEER_SERVER, false, "server message has more than one of 'QMP', 'return', 'error', 'event'");
    JUDGE("{\"foo\": 1}", QMPK_PEER_SERVER, false, "server message is not a greeting, return, error or event");
    JUDGE("{\"foo\": 1}", QMPK_PEER_ANY, false, "QMP input member 'foo' is unexpected");
    JUDGE("{\"QMP\": {\"version\": 1, \"capabilities\": []}}", QMPK_PEER_SERVER, false, "greeting 'QMP' must be an object with 'version' object and 'capabilities' array");
}

static void kind_names_are_stable(void)
{
    CHECK(strcmp(qmpk_kind_name(QMPK_KIND_OOB_COMMAND), "oob-command") == 0);
    CHECK(strcmp(qmpk_kind_name(QMPK_KIND_VALUE), "value") == 0);
    CHECK(strcmp(qmpk_kind_name(QMPK_KIND_GREETING), "greeting") == 0);
}

static const qmpk_test_t tests[] = {
    { "commands classify with name, arguments and id", commands_classify_with_name_arguments_and_id },
    { "non-objects and empty objects fail with QEMU's texts", non_objects_and_empty_objects_fail_with_qemus_texts },
    { "the first offence in QDict order decides", the_first_offence_in_qdict_order_decides },
    { "exec-oob is a member only when OOB was negotiated", exec_oob_is_a_member_only_when_oob_was_negotiated },
    { "server messages classify by their key", server_messages_classify_by_their_key },
    { "kind names are stable", kind_names_are_stable },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
