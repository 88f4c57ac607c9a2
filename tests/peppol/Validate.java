import java.io.File;
import java.util.Locale;

import com.helger.diver.api.coord.DVRCoordinate;
import com.helger.io.resource.FileSystemResource;
import com.helger.phive.api.execute.ValidationExecutionManager;
import com.helger.phive.api.executorset.IValidationExecutorSet;
import com.helger.phive.api.executorset.ValidationExecutorSetRegistry;
import com.helger.phive.api.result.ValidationResultList;
import com.helger.phive.api.validity.IValidityDeterminator;
import com.helger.phive.peppol.PeppolValidation;
import com.helger.phive.xml.source.IValidationSourceXML;
import com.helger.phive.xml.source.ValidationSourceXML;

/**
 * Validates UBL files with the official Peppol BIS Billing 3.0 rules, all in one JVM.
 * Usage: java Validate.java VERSION[,VERSION...] FILE... ; prints one line per finding and per
 * file and rule set ("ok" or "FAILED"), exits 1 when anything is an error or a warning.
 */
public final class Validate {
  public static void main(String[] args) throws Exception {
    ValidationExecutorSetRegistry<IValidationSourceXML> registry = new ValidationExecutorSetRegistry<>();
    PeppolValidation.initStandard(registry);
    boolean clean = true;
    for (int i = 1; i < args.length; i++) {
      File file = new File(args[i]);
      String document = file.getName().contains("credit-note") ? "creditnote" : "invoice";
      for (String version : args[0].split(",")) {
        DVRCoordinate id = DVRCoordinate.parseOrThrow("eu.peppol.bis3:" + document + ":" + version);
        IValidationExecutorSet<IValidationSourceXML> rules = registry.getOfID(id);
        if (rules == null) {
          System.out.println("UNKNOWN-RULES " + id.getAsSingleID());
          clean = false;
          continue;
        }
        ValidationResultList result = ValidationExecutionManager.executeValidation(
            IValidityDeterminator.createDefault(), rules,
            ValidationSourceXML.create(new FileSystemResource(file)));
        int[] findings = {0};
        result.forEachFlattened(error -> error.getErrorLevel().isGE(
            com.helger.diagnostics.error.level.EErrorLevel.WARN), error -> {
          findings[0]++;
          System.out.println("FINDING " + file.getName() + " " + id.getAsSingleID() + " "
              + error.getAsString(Locale.ENGLISH).replace('\n', ' '));
        });
        boolean ok = findings[0] == 0 && result.getOverallValidity().isValid();
        clean &= ok;
        System.out.println((ok ? "ok " : "FAILED ") + file.getName() + " " + id.getAsSingleID());
      }
    }
    System.exit(clean ? 0 : 1);
  }
}
