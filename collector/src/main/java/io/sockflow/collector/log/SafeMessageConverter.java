package io.sockflow.collector.log;

import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.pattern.ConverterKeys;
import org.apache.logging.log4j.core.pattern.LogEventPatternConverter;
import org.apache.logging.log4j.core.pattern.PatternConverter;

/**
 * {@code %safemsg}: the log message with every control and invisible formatting character escaped ({@code \x1b},
 * {@code \x0a}, {@code \u202e}), so that a process name, host name or path from the capture can neither forge log
 * lines nor drive the terminal that shows them.
 */
@Plugin(name = "SafeMessageConverter", category = PatternConverter.CATEGORY)
@ConverterKeys({"safemsg"})
public final class SafeMessageConverter extends LogEventPatternConverter {
    private SafeMessageConverter() {
        super("SafeMessage", "safemsg");
    }

    public static SafeMessageConverter newInstance(String[] options) {
        return new SafeMessageConverter();
    }

    @Override
    public void format(LogEvent event, StringBuilder out) {
        escape(event.getMessage().getFormattedMessage(), out);
    }

    /** Appends {@code s} with control and formatting characters as escapes; other text as it is. */
    public static void escape(CharSequence s, StringBuilder out) {
        if (s == null) {
            out.append("null");
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            if (type == Character.CONTROL
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                out.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
    }
}
