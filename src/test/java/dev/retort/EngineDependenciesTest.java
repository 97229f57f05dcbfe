package dev.retort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What an embedder inherits from pom.xml: Jackson, and nothing of the command line or of CUDA
 * (src/it/embedder-check.sh proves it end to end with a throw-away project).
 */
class EngineDependenciesTest {
    private static final Pattern DEPENDENCY = Pattern.compile("<dependency>(.*?)</dependency>", Pattern.DOTALL);

    @Test
    void onlyJacksonIsInheritedByAnEmbedder() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        // The top-level <dependencies>, not those of plugins or profiles.
        int start = pom.indexOf("\n  <dependencies>");
        String dependencies = pom.substring(start, pom.indexOf("\n  </dependencies>", start));
        List<String> inherited = new ArrayList<>();
        Matcher m = DEPENDENCY.matcher(dependencies);
        while (m.find()) {
            String d = m.group(1);
            boolean optional = d.contains("<optional>true</optional>");
            boolean test = d.contains("<scope>test</scope>");
            if (!optional && !test) {
                inherited.add(d.replaceAll("(?s).*<artifactId>(.*?)</artifactId>.*", "$1"));
            }
        }
        assertEquals(List.of("jackson-databind"), inherited);
        for (String optional : List.of("picocli", "progressbar", "xchart", "jcuda", "jcuda-natives")) {
            assertTrue(dependencies.contains("<artifactId>" + optional + "</artifactId>"), optional);
        }
    }

    @Test
    void theJarNamesItsModule() throws Exception {
        assertTrue(Files.readString(Path.of("pom.xml")).contains("<Automatic-Module-Name>${retort.module.name}"
                + "</Automatic-Module-Name>"));
    }
}
