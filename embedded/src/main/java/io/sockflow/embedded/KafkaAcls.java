package io.sockflow.embedded;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What each of sockflow's Kafka accounts may do, as ACLs on the named topics, groups and transactional ids (literal
 * names; the reader's groups and the jobs' transactional ids by prefix). Whatever they do not grant the authorizer
 * refuses: a collector cannot read what other hosts sent, the jobs cannot write the events, a reader reads results.
 */
public final class KafkaAcls {
    private KafkaAcls() {}

    /** A collector: makes the events topic if it is missing, and writes to it; nothing else. */
    public static List<AclBinding> collector(String eventsTopic) {
        List<AclBinding> acls = new ArrayList<>();
        topic(
                acls,
                KafkaCredentials.COLLECTOR,
                eventsTopic,
                AclOperation.WRITE,
                AclOperation.DESCRIBE,
                AclOperation.CREATE);
        return acls;
    }

    /**
     * The jobs: read the events topic in their consumer group, and write their result topics inside their own
     * transactions (ids that start with {@code transactionalIdPrefix}); they may make those topics and set their
     * retention. They cannot write the events or read anything else.
     */
    public static List<AclBinding> jobs(
            String eventsTopic, Collection<String> resultTopics, String groupId, String transactionalIdPrefix) {
        String user = KafkaCredentials.JOBS;
        List<AclBinding> acls = new ArrayList<>();
        topic(
                acls,
                user,
                eventsTopic,
                AclOperation.READ,
                AclOperation.DESCRIBE,
                AclOperation.CREATE,
                AclOperation.DESCRIBE_CONFIGS,
                AclOperation.ALTER_CONFIGS);
        for (String t : resultTopics) {
            topic(
                    acls,
                    user,
                    t,
                    AclOperation.WRITE,
                    AclOperation.DESCRIBE,
                    AclOperation.CREATE,
                    AclOperation.DESCRIBE_CONFIGS,
                    AclOperation.ALTER_CONFIGS);
        }
        allow(acls, user, new ResourcePattern(ResourceType.GROUP, groupId, PatternType.LITERAL), AclOperation.READ);
        allow(acls, user, new ResourcePattern(ResourceType.GROUP, groupId, PatternType.LITERAL), AclOperation.DESCRIBE);
        ResourcePattern tx =
                new ResourcePattern(ResourceType.TRANSACTIONAL_ID, transactionalIdPrefix, PatternType.PREFIXED);
        allow(acls, user, tx, AclOperation.WRITE);
        allow(acls, user, tx, AclOperation.DESCRIBE);
        return acls;
    }

    /** A reader: reads and describes {@code resultTopics}, in consumer groups named {@value KafkaCredentials#READER_GROUP_PREFIX}*. */
    public static List<AclBinding> reader(Collection<String> resultTopics) {
        String user = KafkaCredentials.READER;
        List<AclBinding> acls = new ArrayList<>();
        for (String t : resultTopics) {
            topic(acls, user, t, AclOperation.READ, AclOperation.DESCRIBE);
        }
        ResourcePattern groups =
                new ResourcePattern(ResourceType.GROUP, KafkaCredentials.READER_GROUP_PREFIX, PatternType.PREFIXED);
        allow(acls, user, groups, AclOperation.READ);
        allow(acls, user, groups, AclOperation.DESCRIBE);
        return acls;
    }

    /**
     * A schema registry that logs in with an account of its own (Confluent's, as docker-compose.yml runs it): reads and
     * writes its {@code schemasTopic}, and joins the consumer groups named {@code groupPrefix}* in which it elects its
     * leader and reads that topic. The topic is made before it starts, so it may not create one.
     */
    public static List<AclBinding> registry(String schemasTopic, String groupPrefix) {
        String user = KafkaCredentials.REGISTRY;
        List<AclBinding> acls = new ArrayList<>();
        topic(
                acls,
                user,
                schemasTopic,
                AclOperation.READ,
                AclOperation.WRITE,
                AclOperation.DESCRIBE,
                AclOperation.DESCRIBE_CONFIGS);
        ResourcePattern groups = new ResourcePattern(ResourceType.GROUP, groupPrefix, PatternType.PREFIXED);
        allow(acls, user, groups, AclOperation.READ);
        allow(acls, user, groups, AclOperation.DESCRIBE);
        return acls;
    }

    private static void topic(List<AclBinding> acls, String user, String topic, AclOperation... ops) {
        ResourcePattern p = new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL);
        for (AclOperation op : ops) {
            allow(acls, user, p, op);
        }
    }

    private static void allow(List<AclBinding> acls, String user, ResourcePattern p, AclOperation op) {
        acls.add(new AclBinding(p, new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW)));
    }
}
