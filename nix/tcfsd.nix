# NixOS module for the tcfs daemon. It produces the same systemd unit that
# `tcfs device enroll --system` writes (Type=notify, After/Wants=network-online.target,
# Restart=on-failure, an optional EnvironmentFile), with a config.toml built from the options.
#
#   services.tcfsd = {
#     enable = true;
#     package = tcfs;                  # a package providing bin/tcfs
#     deviceName = "yoga";
#     conflictMode = "interactive";
#     natsUrl = "nats://yoga.local:4222";
#     mounts = [ "/srv/fleet" ];        # FUSE mounts of the namespace (docs/MOUNT.md)
#     settings.storage.endpoint = "http://dees-appu-bearts:8333";
#   };
#
# Credentials stay out of the Nix store: give them through sops-nix (/run/secrets/tcfs/*, which
# tcfs reads) or the env file. The device still enrolls once with `tcfs device enroll --no-service`
# to get its id and its registration in the bucket.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.tcfsd;
  settingsFormat = pkgs.formats.toml { };
  # The typed options win over the same keys in `settings`.
  configFile = settingsFormat.generate "tcfs-config.toml" (lib.recursiveUpdate cfg.settings {
    sync = {
      device_name = cfg.deviceName;
      conflict_mode = cfg.conflictMode;
    } // lib.optionalAttrs (cfg.natsUrl != null) {
      # A cluster's servers become the comma-separated list `[sync] nats_url` takes.
      nats_url = lib.concatStringsSep "," (lib.toList cfg.natsUrl);
    };
  } // lib.optionalAttrs (cfg.mounts != [ ]) {
    mount = (cfg.settings.mount or { }) // { mounts = cfg.mounts; };
  });
in
{
  options.services.tcfsd = {
    enable = lib.mkEnableOption "the tcfs fleet file sync daemon";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The tcfs package; its `bin/tcfs daemon` is the service.";
    };

    deviceName = lib.mkOption {
      type = lib.types.strMatching "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "This device's name in the fleet (`[sync] device_name`).";
    };

    conflictMode = lib.mkOption {
      type = lib.types.enum [ "interactive" "auto" "defer" ];
      default = "interactive";
      description = ''
        How concurrent edits are settled (`[sync] conflict_mode`): `interactive` queues them
        for you, `auto` lets the lexicographically smaller device name win and keeps the other
        side as a conflict copy, `defer` only logs and queues them.
      '';
    };

    natsUrl = lib.mkOption {
      type = lib.types.nullOr (lib.types.either lib.types.str (lib.types.nonEmptyListOf lib.types.str));
      default = null;
      example = [ "nats://nats-1.lab:4222" "nats://nats-2.lab:4222" "nats://nats-3.lab:4222" ];
      description = ''
        The NATS server for live events (`[sync] nats_url`), or a cluster's servers (a list, or
        one comma-separated string), tried in order; without one the daemon polls the store.
      '';
    };

    mounts = lib.mkOption {
      type = lib.types.listOf (lib.types.strMatching "/.*");
      default = [ ];
      example = [ "/srv/fleet" "/srv/papers=tcfs/default/papers" ];
      description = ''
        What the daemon mounts through FUSE (`[mount] mounts`): a mount point shows the whole
        namespace, `<mountpoint>=<remote>` a path of it. Files are fetched only when read.
      '';
    };

    settings = lib.mkOption {
      type = settingsFormat.type;
      default = { };
      example = lib.literalExpression ''
        {
          storage = { endpoint = "http://dees-appu-bearts:8333"; bucket = "tcfs"; };
          sync.sync_root = "/srv/sync";
        }
      '';
      description = "Any other config.toml settings, by section (see `tcfs config show`).";
    };

    environmentFile = lib.mkOption {
      type = lib.types.str;
      default = "/root/.config/tcfs/env";
      description = "The env file (NAME=value lines) loaded if it exists; keep it out of the Nix store.";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.tcfsd = {
      description = "tcfs fleet file sync daemon";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      environment = {
        TCFS_CONFIG = "${configFile}";
        HOME = "/root";
      };
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "all";
        ExecStart = "${cfg.package}/bin/tcfs daemon";
        EnvironmentFile = "-${cfg.environmentFile}";
        Restart = "on-failure";
        RestartSec = "5s";
        TimeoutStopSec = "15s";
      };
    };
  };
}
