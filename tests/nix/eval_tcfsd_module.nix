# Evaluates nix/tcfsd.nix without nixpkgs (which can't be fetched here): a small stand-in for the
# parts of `lib` and `pkgs` the module uses. It checks the module's own logic (the options it
# declares, the unit and config.toml it produces), not the NixOS module system's merging.
{ cfg }:
let
  lib = rec {
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${name}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    optionalAttrs = condition: attrs: if condition then attrs else { };
    concatStringsSep = builtins.concatStringsSep;
    toList = x: if builtins.isList x then x else [ x ];
    recursiveUpdate = lhs: rhs:
      lhs // builtins.mapAttrs
        (name: value:
          if builtins.isAttrs value && builtins.isAttrs (lhs.${name} or null)
          then recursiveUpdate lhs.${name} value
          else value)
        rhs;
    types = {
      bool = { name = "bool"; check = builtins.isBool; };
      str = { name = "str"; check = builtins.isString; };
      package = { name = "package"; check = x: builtins.isString x || builtins.isAttrs x; };
      strMatching = pattern: {
        name = "strMatching";
        check = x: builtins.isString x && builtins.match pattern x != null;
      };
      enum = values: { name = "enum"; inherit values; check = x: builtins.elem x values; };
      nullOr = elemType: { name = "nullOr"; check = x: x == null || elemType.check x; };
      either = a: b: { name = "either"; check = x: a.check x || b.check x; };
      listOf = elemType: {
        name = "listOf";
        check = x: builtins.isList x && builtins.all elemType.check x;
      };
      nonEmptyListOf = elemType: {
        name = "nonEmptyListOf";
        check = x: builtins.isList x && x != [ ] && builtins.all elemType.check x;
      };
    };
  };
  pkgs.formats.toml = _: {
    type = { name = "toml"; check = builtins.isAttrs; };
    # The real generator writes TOML; JSON of the same value is enough to check the content.
    generate = name: value: builtins.toFile name (builtins.toJSON value);
  };
  # Like the module system: each option is its value from `cfg`, else its default.
  module = import ../../nix/tcfsd.nix {
    inherit lib pkgs;
    config = {
      services.tcfsd = builtins.mapAttrs (name: option: cfg.${name} or option.default) options;
      networking.hostName = "stub-host";
    };
  };
  options = module.options.services.tcfsd;
  service = module.config.content.systemd.services.tcfsd;
in
{
  optionNames = builtins.attrNames options;
  defaults = {
    enable = options.enable.default;
    deviceName = options.deviceName.default;
    environmentFile = options.environmentFile.default;
    conflictMode = options.conflictMode.default;
    natsUrl = options.natsUrl.default;
  };
  conflictModes = options.conflictMode.type.values;
  # Every value given must be a declared option and pass its type.
  typeErrors = builtins.filter
    (name: !(options ? ${name}) || !(options.${name}.type.check cfg.${name}))
    (builtins.attrNames cfg);
  deviceNameChecks = map options.deviceName.type.check [ "yoga" "petting-zoo-mini" "../x" "" ];
  enabled = module.config.condition;
  unit = {
    inherit (service) description after wants wantedBy;
    serviceConfig = service.serviceConfig;
    environment = builtins.removeAttrs service.environment [ "TCFS_CONFIG" ];
  };
  settings = builtins.fromJSON (builtins.readFile service.environment.TCFS_CONFIG);
}
