/**
 * The one config system of sockflow: every setting of {@code up}, the collector and the jobs is declared once in a
 * Kafka {@link org.apache.kafka.common.config.ConfigDef} (type, default, validator, doc), read by one flag parser
 * ({@link io.sockflow.schemas.config.Flags}), checked by one checker ({@link io.sockflow.schemas.config.Check}) and
 * printed by one renderer ({@link io.sockflow.schemas.config.Explain}).
 */
package io.sockflow.schemas.config;
