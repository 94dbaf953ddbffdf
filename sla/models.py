"""Service catalogue and agreements (服务目录与协议): the domain records of this app are added by its own issue."""
