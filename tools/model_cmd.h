/* model_cmd.h: `fraudctl model`, the model registry by hand.
 *
 *   fraudctl model list                [--registry DIR]
 *   fraudctl model show VERSION        [--registry DIR]
 *   fraudctl model promote VERSION     [--registry DIR] [--reason TEXT]
 *   fraudctl model rollback [VERSION]  [--registry DIR] [--reason TEXT]
 *
 * The registry is trainer.registry_dir (--registry overrides), laid out as
 * trainer/registry.h says.  list prints one line per version, sorted by
 * name, the champion marked '*': status, label cutoff, the cascade's
 * average precision and AUC-ROC on its holdout, parent, status reason.
 * show prints the version's directory and its model.yaml.
 *
 * promote makes VERSION the champion (the previous one retired); rollback
 * puts back VERSION, or by default the champion's parent (the champion it
 * replaced), and retires the current one.  Both then publish the
 * ModelAnnouncement on topics.models (trainer/announce.h) through the
 * configured Kafka, so the scorer swaps without a restart.  When Kafka is
 * not reachable the registry keeps the change and the command says that
 * the scorer was not told, and how to tell it later (promote again, or
 * restart fraud-trainer, which announces the champion when it starts);
 * the exit status is then EX_UNAVAILABLE.  Promoting the champion again
 * only announces it.
 *
 * Exit status: 0; 64 usage; 66 no such registry or version; 65 a
 * model.yaml that does not read; 69 registry changed, not announced; 73 the
 * registry cannot be written; 78 bad configuration.
 */
#ifndef FRAUD_MODEL_CMD_H
#define FRAUD_MODEL_CMD_H

/* The subcommand; returns the exit status (0, or a sysexits.h code). */
int model_cmd_main(int argc, char **argv);

#endif
